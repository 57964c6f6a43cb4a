/* Outcome measure forms: each multi-item scale has a "Clear" button that takes back a chosen
   answer, so an item can be left blank as the page says. Radio buttons cannot be unchecked by
   clicking them again; without this script the buttons stay hidden. */
(function () {
  "use strict";

  function init() {
    document.querySelectorAll("[data-scale-clear]").forEach(function (button) {
      var item = button.closest(".scale-item");
      if (!item) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        item.querySelectorAll("input[type=radio]").forEach(function (radio) {
          radio.checked = false;
        });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
