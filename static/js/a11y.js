/*
 * Accessibility (low-vision) panel: progressive enhancement.
 *
 * Without JavaScript, <form class="a11y-panel" method="post"> posts to the
 * server, which sets the "a11y" cookie and redirects back. With this script
 * (loaded with <script src=... defer>) a click on one of the panel's buttons
 *   - switches the classes on <html> at once:
 *       a11y-font-150 | a11y-font-200, a11y-spacing, a11y-no-images, a11y-contrast
 *   - updates aria-pressed on the panel buttons,
 *   - writes the same cookie the server reads:
 *       a11y=<active class names without "a11y-", comma-separated>
 *       e.g. a11y=font-150,spacing,contrast; path=/; max-age=1 year; SameSite=Lax
 *
 * Buttons (name / value):
 *   font = 100 | 150 | 200
 *   spacing = on | off
 *   images = on | off        ("off" hides images: class a11y-no-images)
 *   contrast = on | off
 *   reset = 1                (removes every mode)
 * A setting may be rendered as two buttons (on + off) or as one toggle
 * button whose value is the state it switches to; both work.
 *
 * Plain ES2017, no dependencies, no inline code (CSP without 'unsafe-inline').
 */
(function () {
  'use strict';

  var COOKIE_NAME = 'a11y';
  var COOKIE_MAX_AGE = 365 * 24 * 60 * 60;
  var PREFIX = 'a11y-';
  var FONT_SIZES = ['150', '200'];
  var MODES = ['font-150', 'font-200', 'spacing', 'no-images', 'contrast'];
  var SETTINGS = ['font', 'spacing', 'images', 'contrast', 'reset'];
  var PANEL_SELECTOR = 'form.a11y-panel';

  var root = document.documentElement;

  function has(mode) {
    return root.classList.contains(PREFIX + mode);
  }

  function setMode(mode, on) {
    root.classList.toggle(PREFIX + mode, Boolean(on));
  }

  function activeModes() {
    return MODES.filter(has);
  }

  // ---- state <-> classes -------------------------------------------------

  function currentValue(name) {
    switch (name) {
      case 'font':
        for (var i = 0; i < FONT_SIZES.length; i++) {
          if (has('font-' + FONT_SIZES[i])) {
            return FONT_SIZES[i];
          }
        }
        return '100';
      case 'spacing':
        return has('spacing') ? 'on' : 'off';
      case 'images':
        return has('no-images') ? 'off' : 'on';
      case 'contrast':
        return has('contrast') ? 'on' : 'off';
      default:
        return null;
    }
  }

  // Whether the non-default state of a setting is active (for toggle buttons).
  function isChanged(name) {
    switch (name) {
      case 'spacing':
        return has('spacing');
      case 'images':
        return has('no-images');
      case 'contrast':
        return has('contrast');
      default:
        return false;
    }
  }

  function apply(name, value) {
    switch (name) {
      case 'font':
        FONT_SIZES.forEach(function (size) {
          setMode('font-' + size, false);
        });
        if (FONT_SIZES.indexOf(value) !== -1) {
          setMode('font-' + value, true);
        }
        break;
      case 'spacing':
        setMode('spacing', value === 'on');
        break;
      case 'images':
        setMode('no-images', value === 'off');
        break;
      case 'contrast':
        setMode('contrast', value === 'on');
        break;
      case 'reset':
        MODES.forEach(function (mode) {
          setMode(mode, false);
        });
        break;
      default:
        return false;
    }
    return true;
  }

  // ---- cookie ---------------------------------------------------------------

  function writeCookie() {
    var value = activeModes().join(',');
    var attrs = '; path=/; SameSite=Lax';
    if (window.location.protocol === 'https:') {
      attrs += '; Secure';
    }
    if (value) {
      document.cookie = COOKIE_NAME + '=' + value + attrs + '; max-age=' + COOKIE_MAX_AGE;
    } else {
      document.cookie = COOKIE_NAME + '=' + attrs + '; max-age=0';
    }
  }

  function readCookie() {
    var parts = document.cookie ? document.cookie.split(';') : [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      var eq = part.indexOf('=');
      if (eq !== -1 && part.slice(0, eq) === COOKIE_NAME) {
        var value = part.slice(eq + 1);
        if (value.length > 1 && value.charAt(0) === '"' && value.charAt(value.length - 1) === '"') {
          value = value.slice(1, -1);
        }
        // The server may have written a quoted, escaped value (\054 is ",").
        value = value.replace(/\\054/g, ',');
        return value.split(',').map(function (item) {
          item = item.trim();
          return item.indexOf(PREFIX) === 0 ? item.slice(PREFIX.length) : item;
        }).filter(function (item) {
          return MODES.indexOf(item) !== -1;
        });
      }
    }
    return [];
  }

  // ---- buttons ----------------------------------------------------------------

  function panels() {
    return Array.prototype.slice.call(document.querySelectorAll(PANEL_SELECTOR));
  }

  function settingButtons(form) {
    return Array.prototype.slice.call(form.querySelectorAll('button[name]')).filter(function (button) {
      return SETTINGS.indexOf(button.name) !== -1;
    });
  }

  function refreshButtons() {
    panels().forEach(function (form) {
      var buttons = settingButtons(form);
      buttons.forEach(function (button) {
        var name = button.name;
        if (name === 'reset') {
          return;
        }
        var siblings = buttons.filter(function (other) {
          return other.name === name;
        });
        if (siblings.length === 1 && name !== 'font') {
          // One toggle button: pressed while the setting is changed from its
          // default; its value becomes the state the next click switches to.
          var changed = isChanged(name);
          button.setAttribute('aria-pressed', changed ? 'true' : 'false');
          if (name === 'images') {
            button.value = changed ? 'on' : 'off';
          } else {
            button.value = changed ? 'off' : 'on';
          }
        } else {
          button.setAttribute('aria-pressed', button.value === currentValue(name) ? 'true' : 'false');
        }
      });
    });
  }

  // ---- alt text stand-ins for "images off" --------------------------------------

  // When images are hidden, show each informative image's alt text in its place
  // (.a11y-alt-text is display:none unless html.a11y-no-images is set).
  function addAltTextStandIns() {
    var images = document.querySelectorAll('img[alt]:not([data-a11y-alt])');
    Array.prototype.forEach.call(images, function (img) {
      img.setAttribute('data-a11y-alt', '');
      var alt = img.getAttribute('alt').trim();
      if (!alt || img.closest('.a11y-panel')) {
        return;
      }
      var anchor = img.parentElement && img.parentElement.tagName === 'PICTURE' ? img.parentElement : img;
      var span = document.createElement('span');
      span.className = 'a11y-alt-text';
      span.textContent = alt;
      anchor.insertAdjacentElement('afterend', span);
    });
  }

  // ---- events --------------------------------------------------------------------

  function onClick(event) {
    var button = event.target.closest('button');
    if (!button || !this.contains(button) || SETTINGS.indexOf(button.name) === -1) {
      return;
    }
    if (button.type !== 'submit' || button.disabled) {
      return;
    }
    if (!apply(button.name, button.value)) {
      return;
    }
    event.preventDefault();
    writeCookie();
    refreshButtons();
  }

  function init() {
    panels().forEach(function (form) {
      form.addEventListener('click', onClick);
    });
    refreshButtons();
    addAltTextStandIns();
  }

  // Coming back through the back/forward cache: the settings may have been
  // changed on another page since, so take them from the cookie again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) {
      return;
    }
    var saved = readCookie();
    MODES.forEach(function (mode) {
      setMode(mode, saved.indexOf(mode) !== -1);
    });
    refreshButtons();
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
