// The referral form's ICD-10 search: a code chosen from the results is added to the diagnoses box.
// The search box names that box in data-codes-field (a static file: the Content-Security-Policy
// allows no inline script).
(function () {
  var search = document.getElementById("icd10-q");
  var results = document.getElementById("icd10-results");
  if (!search || !results) { return; }
  var codes = document.getElementById(search.dataset.codesField);
  var said = document.getElementById("icd10-added");
  // Enter in the search box searches; it must not submit the referral half-filled.
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); htmx.trigger(search, "search"); }
  });
  results.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-code]");
    if (!pick) { return; }
    var code = pick.dataset.code;
    var lines = codes.value.split("\n").filter(function (line) { return line.trim() !== ""; });
    var present = lines.some(function (line) { return line.trim().split(/[\s,;]+/)[0].toUpperCase() === code; });
    if (!present) { lines.push(code + " " + pick.dataset.description); codes.value = lines.join("\n"); }
    said.textContent = present ? code + " is already listed." : code + " added.";
    search.value = "";
    results.innerHTML = "";
    search.focus();
  });
})();
