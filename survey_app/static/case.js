// The case page: "Insert template" puts the chosen answer template where the cursor is
// in the answer, instead of sending the form (which, without JavaScript, shows the page
// again with the template added at the end of the answer).
(function () {
  "use strict";
  var button = document.getElementById("insert-template");
  var picker = document.getElementById("answer-template");
  var answer = document.getElementById("answer-answer");
  if (!button || !picker || !answer) {
    return;
  }
  var placed = false; // has the user put the cursor in the answer?
  answer.addEventListener("focus", function () {
    placed = true;
  });
  button.addEventListener("click", function (event) {
    var option = picker.options[picker.selectedIndex];
    if (!option || !option.value) {
      return; // nothing chosen: the server explains
    }
    event.preventDefault();
    var body = option.getAttribute("data-body") || "";
    var start = answer.selectionStart, end = answer.selectionEnd;
    var text = answer.value;
    if (!placed || typeof start !== "number") {
      start = end = text.length; // no cursor in the answer yet: at its end
    }
    var before = text.slice(0, start), after = text.slice(end);
    var glue = before && !/\n$/.test(before) ? "\n\n" : "";
    answer.value = before + glue + body + after;
    var caret = (before + glue + body).length;
    answer.focus();
    answer.setSelectionRange(caret, caret);
    answer.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
