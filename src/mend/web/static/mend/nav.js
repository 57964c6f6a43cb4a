/* The main menu on a phone: one "Menu" button that shows and hides the links (a disclosure, not
   a modal: Tab goes on into the links, Escape closes it and returns to the button). On a wide
   screen the button is hidden by the stylesheet and the links always show. Without this script
   the button stays hidden and the links are one row that scrolls sideways. */
(function () {
  "use strict";

  function setup() {
    var header = document.querySelector(".topbar");
    var button = header && header.querySelector(".nav-toggle");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!button || !nav) return;

    function open(state) {
      button.setAttribute("aria-expanded", state ? "true" : "false");
      header.classList.toggle("nav-open", state);
    }

    header.classList.add("nav-js");
    button.hidden = false;
    button.addEventListener("click", function () {
      open(button.getAttribute("aria-expanded") !== "true");
    });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("nav-open")) {
        open(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
