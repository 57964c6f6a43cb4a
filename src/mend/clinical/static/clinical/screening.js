/* Intake questionnaire: the "where / details" fields of a question show once its answer records
   a finding (usually "yes"), or while it is unanswered and they hold something (where an open
   finding was), or hold an error. Answering "no" hides them. Without this script they are always
   shown. */
(function () {
  "use strict";

  function hasContent(detail) {
    return Array.prototype.some.call(detail.querySelectorAll("input, select, textarea"), function (el) {
      return el.value !== "";
    });
  }

  function init() {
    document.querySelectorAll("[data-question]").forEach(function (question) {
      var detail = question.querySelector("[data-question-detail]");
      if (!detail) return;
      function update() {
        var answer = question.dataset.findingAnswer || "yes";
        var checked = question.querySelector("input[type=radio]:checked");
        var yes = checked && checked.value === answer;
        question.classList.toggle("is-yes", Boolean(yes));
        detail.hidden = !yes && (Boolean(checked) || !hasContent(detail)) && !detail.querySelector(".errorlist");
      }
      question.addEventListener("change", update);
      update();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
