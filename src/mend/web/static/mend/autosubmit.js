// A <select data-autosubmit> sends its form as soon as a choice is made (the clinic switcher).
// Without script the form's own Switch button does it. A static file, not an onchange attribute:
// the Content-Security-Policy allows no inline script or event handler.
document.addEventListener("change", function (event) {
  var select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) { select.form.requestSubmit(); }
});
