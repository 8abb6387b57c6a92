// The clerk's registration form: once the appeal's text is typed, the topic the
// routing model suggests is preselected while the clerk has not chosen one, with a
// line saying so; the clerk may change it. Nothing happens without a model.
(function () {
  "use strict";
  var form = document.querySelector("form[data-suggest-topic-url]");
  if (!form) { return; }
  var text = form.querySelector("[name=text]");
  var topic = form.querySelector("select[name=topic]");
  var note = document.getElementById("topic-suggestion");
  if (!text || !topic || !note) { return; }
  var chosenByClerk = topic.value !== "";
  var suggested = null;
  topic.addEventListener("change", function () {
    chosenByClerk = topic.value !== "" && topic.value !== suggested;
    if (chosenByClerk) { note.hidden = true; }
  });
  text.addEventListener("change", function () {
    if (chosenByClerk || text.value.trim().length < 20) { return; }
    var body = new FormData();
    body.append("text", text.value);
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    fetch(form.getAttribute("data-suggest-topic-url"), {
      method: "POST", body: body, credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : { topic: null };
    }).then(function (data) {
      if (chosenByClerk || !data.topic) { return; }
      var value = String(data.topic);
      if (!topic.querySelector("option[value=\"" + CSS.escape(value) + "\"]")) { return; }
      topic.value = value;
      suggested = value;
      note.textContent = data.message;
      note.hidden = false;
    }).catch(function () { /* no suggestion: the clerk picks the topic */ });
  });
})();
