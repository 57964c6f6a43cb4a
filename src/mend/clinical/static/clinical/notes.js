/* Small helpers for the clinical forms (notes, plan, goals, home program). Everything works
   without this file; it adds rows, asks before signing or deleting, and shows autosave errors. */
(function () {
  "use strict";

  // Autosave answers 400 (field errors) or 409 (signed elsewhere) with a status line: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var source = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    if ((status === 400 || status === 409) && source && source.closest("#note-form")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // "Add a row" for Django formsets: clone the row <template>, numbering it after the last row.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (button) {
      var prefix = button.getAttribute("data-add-row");
      var template = document.querySelector('template[data-formset-template="' + prefix + '"]');
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var rows = document.querySelector('[data-formset="' + prefix + '"]');
      if (!template || !total || !rows) return;
      var index = parseInt(total.value, 10);
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__rownumber__/g, String(index + 1));
      var row = holder.firstElementChild;
      rows.insertBefore(row, template);
      total.value = String(index + 1);
      if (window.htmx) window.htmx.process(row);
      var first = row.querySelector("select, input, textarea");
      if (first) first.focus();
      return;
    }
    if (event.target.closest("[data-print]")) window.print();
  });

  // Ask before signing or deleting: the button or the form names the question.
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Goal form: show the parts of the chosen measure, and the latest value as the baseline hint.
  function goalMeasure(form) {
    var kind = form.querySelector('input[name="measure_kind"]:checked');
    if (!kind) return { kind: "", key: "" };
    var value = function (name) { var el = form.elements[name]; return el ? el.value.trim() : ""; };
    if (kind.value === "psfs") return { kind: "psfs", key: "psfs:" + value("psfs_activity").replace(/\s+/g, " ").toLowerCase() };
    if (kind.value === "rom") return { kind: "rom", key: "rom:" + value("rom_motion") + ":" + value("rom_side") };
    return { kind: kind.value, key: kind.value };
  }
  function updateGoal(form) {
    var measure = goalMeasure(form);
    form.querySelectorAll("[data-measure-part]").forEach(function (part) {
      part.hidden = part.getAttribute("data-measure-part") !== measure.kind;
    });
    var baseline = form.elements.baseline;
    if (!baseline) return;
    var row = document.querySelector('[data-measure-key="' + (window.CSS ? CSS.escape(measure.key) : measure.key) + '"]');
    baseline.placeholder = row ? "Latest: " + row.getAttribute("data-measure-value") : "";
  }
  document.querySelectorAll(".goal-form").forEach(function (form) {
    updateGoal(form);
    form.addEventListener("input", function () { updateGoal(form); });
    form.addEventListener("change", function () { updateGoal(form); });
  });
})();
