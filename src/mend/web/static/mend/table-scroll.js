// A table wider than its box (.table-wrap) scrolls sideways. So that someone on a keyboard can
// scroll it too, such a box joins the tab order as a region named by the table (WCAG 2.1.1);
// a box that fits stays out of the way. Checked on load, after htmx swaps content, and on resize.
(function () {
  function name(wrap) {
    var table = wrap.querySelector("table");
    var caption = table && table.caption && table.caption.textContent.trim();
    if (caption) { return caption; }
    var section = wrap.closest("section, article, details");
    var heading = section && section.querySelector("h1, h2, h3, h4, summary");
    return heading ? heading.textContent.trim() : "Table";
  }
  function mark() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", name(wrap) + " (scrolls sideways)");
        wrap.dataset.scrollRegion = "";
      } else if (!scrolls && wrap.dataset.scrollRegion !== undefined) {
        ["tabindex", "role", "aria-label", "data-scroll-region"].forEach(function (attribute) { wrap.removeAttribute(attribute); });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
  document.addEventListener("toggle", mark, true);
  window.addEventListener("resize", mark);
})();
