/*
 * Portal page behaviour: progressive enhancement, loaded with
 * <script src=... defer>. Plain ES2017, no dependencies, no inline code.
 *
 * (a) Character counters.
 *     <textarea id="id_text" data-maxlength="10000" aria-describedby="id_text_counter">
 *     <span id="id_text_counter" data-template="%(count)s / %(max)s">0 / 10000</span>
 *     The counter element "#<textarea id>_counter" is rendered by the server;
 *     on input its text becomes the data-template with %(count)s and %(max)s
 *     replaced (default "%(count)s / %(max)s"). Past the maximum it gets the
 *     class "is-over-limit". Characters are counted as Unicode code points,
 *     a line break as one character.
 *
 * (b) Single submission. A <form data-once> disables its submit buttons after
 *     the first submit (no double appeals on a double click) and gets the
 *     class "is-submitting"; both are undone when the page is shown again from
 *     the back/forward cache.
 *
 * (c) Error summary. A form that comes back with errors starts with
 *     <div data-error-summary tabindex="-1"> listing them as links to the
 *     fields; it gets the focus on load (screen readers read it out, keyboard
 *     users start there), and a link in it moves the focus to its field (the
 *     first control of a fieldset).
 */
(function () {
  'use strict';

  var DEFAULT_TEMPLATE = '%(count)s / %(max)s';

  // ---- (a) character counters -------------------------------------------

  function countChars(text) {
    // Code points, not UTF-16 units; "\r\n" counts as one line break.
    return Array.from(text.replace(/\r\n/g, '\n')).length;
  }

  function updateCounter(textarea) {
    if (!textarea.id) {
      return;
    }
    var counter = document.getElementById(textarea.id + '_counter');
    if (!counter) {
      return;
    }
    var max = parseInt(textarea.getAttribute('data-maxlength'), 10);
    var count = countChars(textarea.value);
    var template = counter.getAttribute('data-template') || DEFAULT_TEMPLATE;
    counter.textContent = template
      .split('%(count)s').join(String(count))
      .split('%(max)s').join(isNaN(max) ? '' : String(max));
    counter.classList.toggle('is-over-limit', !isNaN(max) && count > max);
  }

  function updateAllCounters() {
    var textareas = document.querySelectorAll('textarea[data-maxlength]');
    Array.prototype.forEach.call(textareas, updateCounter);
  }

  document.addEventListener('input', function (event) {
    var target = event.target;
    if (target instanceof HTMLTextAreaElement && target.hasAttribute('data-maxlength')) {
      updateCounter(target);
    }
  });

  // ---- (b) single submission -----------------------------------------------

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return (el instanceof HTMLButtonElement || el instanceof HTMLInputElement) &&
        (el.type === 'submit' || el.type === 'image');
    });
  }

  function lock(form) {
    form.classList.add('is-submitting');
    form.setAttribute('aria-busy', 'true');
    submitButtons(form).forEach(function (button) {
      if (!button.disabled) {
        button.disabled = true;
        button.setAttribute('data-once-disabled', '');
      }
    });
  }

  function unlock(form) {
    delete form.dataset.onceSubmitted;
    form.classList.remove('is-submitting');
    form.removeAttribute('aria-busy');
    submitButtons(form).forEach(function (button) {
      if (button.hasAttribute('data-once-disabled')) {
        button.disabled = false;
        button.removeAttribute('data-once-disabled');
      }
    });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-once')) {
      return;
    }
    if (form.dataset.onceSubmitted) {
      event.preventDefault();
      return;
    }
    form.dataset.onceSubmitted = '1';
    // Disable only after the browser has built the form data set, so that the
    // clicked button's own name/value is still sent.
    window.setTimeout(function () {
      if (event.defaultPrevented) {
        // Another handler cancelled this submission: leave the form usable.
        delete form.dataset.onceSubmitted;
        return;
      }
      lock(form);
    }, 0);
  });

  // ---- (c) error summary -----------------------------------------------------

  function focusErrorSummary() {
    var summary = document.querySelector('[data-error-summary]');
    if (summary) {
      summary.focus();
    }
  }

  document.addEventListener('click', function (event) {
    var link = event.target.closest('[data-error-summary] a[href^="#"]');
    if (!link) {
      return;
    }
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) {
      return;
    }
    if (target.tagName === 'FIELDSET') {
      target = target.querySelector('input, select, textarea') || target;
    }
    event.preventDefault();
    target.focus();
    var label = target.id && document.querySelector('label[for="' + target.id + '"]');
    (label || target).scrollIntoView({block: 'center'});
  });

  // ---- page life cycle -------------------------------------------------------

  window.addEventListener('pageshow', function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll('form[data-once]'), unlock);
    }
    updateAllCounters();
  });

  function init() {
    updateAllCounters();
    focusErrorSummary();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
