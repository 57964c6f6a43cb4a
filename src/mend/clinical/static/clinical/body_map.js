/* The body map in edit mode: choosing a region (click, Enter or Space) adds a row to the pain-map
   formset, or focuses the row that already rates that region; the colours follow the rows as
   they change. Without this script the rows work on their own. */
(function () {
  "use strict";

  function covers(rowRegion, rowSide, shape) {
    if (rowRegion !== shape.dataset.region) return false;
    var shapeSide = shape.dataset.side || "";
    return !rowSide || rowSide === "bilateral" || !shapeSide || rowSide === shapeSide;
  }

  function field(row, name) {
    return row.querySelector("[name$='-" + name + "']");
  }

  function setup(map) {
    var prefix = map.dataset.formset || "pain";
    var form = map.closest("form") || document;
    var body = form.querySelector("[data-formset-body='" + prefix + "']");
    var total = form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var template = form.querySelector("template[data-formset-template='" + prefix + "']");
    var live = map.querySelector(".bm-live");
    var shapes = Array.prototype.slice.call(map.querySelectorAll(".bm-shape[data-region]"));
    if (!body || !total) return;

    function rows() {
      return Array.prototype.slice.call(body.querySelectorAll("[data-formset-row]"));
    }

    function removed(row) {
      var del = field(row, "DELETE");
      return del && del.checked;
    }

    function paint() {
      shapes.forEach(function (shape) {
        var best = null;
        rows().forEach(function (row) {
          if (removed(row)) return;
          var region = field(row, "region").value;
          var raw = field(row, "intensity").value;
          if (!region || raw === "" || isNaN(Number(raw))) return;
          if (!covers(region, field(row, "side").value, shape)) return;
          var level = Math.max(0, Math.min(10, Math.round(Number(raw))));
          if (best === null || level > best) best = level;
        });
        for (var i = 0; i <= 10; i++) shape.classList.remove("bm-p" + i);
        var label = shape.dataset.label;
        if (best !== null) {
          shape.classList.add("bm-p" + best);
          label += ": pain " + best + " of 10";
        }
        if (shape.classList.contains("bm-avoid")) label += "; avoid";
        shape.setAttribute("aria-label", label);
        var title = shape.querySelector("title");
        if (title) title.textContent = label;
      });
    }

    function addRow() {
      var index = Number(total.value);
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__rownumber__/g, String(index + 1));
      var row = holder.querySelector("[data-formset-row]");
      body.appendChild(row);
      total.value = String(index + 1);
      return row;
    }

    function choose(shape) {
      var region = shape.dataset.region;
      var side = shape.dataset.side || "";
      var row = rows().find(function (r) {
        return !removed(r) && field(r, "region").value === region && field(r, "side").value === side;
      });
      var added = false;
      if (!row) {
        row = rows().find(function (r) {
          return !removed(r) && !field(r, "region").value && field(r, "intensity").value === "";
        });
        if (!row && template) row = addRow();
        if (!row) return;
        field(row, "region").value = region;
        field(row, "side").value = side;
        added = true;
      }
      var intensity = field(row, "intensity");
      intensity.focus();
      if (intensity.select) intensity.select();
      row.classList.add("is-highlighted");
      window.setTimeout(function () { row.classList.remove("is-highlighted"); }, 1200);
      if (live) {
        live.textContent = shape.dataset.label + (added ? " added to the pain map. Enter the intensity, 0 to 10." : " is already on the pain map.");
      }
      paint();
    }

    map.addEventListener("click", function (event) {
      var shape = event.target.closest(".bm-shape[data-region]");
      if (shape) choose(shape);
    });
    map.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" && event.key !== " ") return;
      var shape = event.target.closest(".bm-shape[data-region]");
      if (!shape) return;
      event.preventDefault();
      choose(shape);
    });
    body.addEventListener("input", paint);
    body.addEventListener("change", paint);
    paint();
  }

  /* "Add a row" buttons of every formset on the page (pain, range of motion, PSFS, palpation). */
  function setupAddButtons() {
    document.querySelectorAll("[data-formset-add]").forEach(function (button) {
      var prefix = button.dataset.formsetAdd;
      var form = button.closest("form") || document;
      var body = form.querySelector("[data-formset-body='" + prefix + "']");
      var total = form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
      var template = form.querySelector("template[data-formset-template='" + prefix + "']");
      if (!body || !total || !template) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var index = Number(total.value);
        var holder = document.createElement("tbody");
        holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__rownumber__/g, String(index + 1));
        var row = holder.querySelector("[data-formset-row]");
        body.appendChild(row);
        total.value = String(index + 1);
        var first = row.querySelector("input, select, textarea");
        if (first) first.focus();
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-bodymap-edit]").forEach(setup);
    setupAddButtons();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
