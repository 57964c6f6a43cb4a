/* The staff calendar's two mouse shortcuts; everything they do is also on the pages without script.
   - A click on an empty time of a column opens the booking form for that therapist (or room), day
     and time (the "New appointment" button and its form do the same with the keyboard).
   - An appointment dragged to another time or column is moved there: a POST to its move URL with the
     CSRF token, answered in JSON; the page reloads on success, or the refusal is read out in the
     status line. The appointment's own page has the same move as a form. */
(function () {
  "use strict";

  var SLOT = 15;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function minuteAt(body, clientY) {
    var rect = body.getBoundingClientRect();
    var rows = parseInt(body.dataset.rows, 10);
    var row = Math.floor(((clientY - rect.top) / rect.height) * rows);
    row = Math.max(0, Math.min(rows - 1, row));
    return parseInt(body.dataset.firstMinute, 10) + row * SLOT;
  }

  function wall(minute) { return pad(Math.floor(minute / 60) % 24) + ":" + pad(minute % 60); }

  function setup() {
    var cal = document.getElementById("calendar");
    if (!cal) return;
    var status = document.getElementById("cal-status");
    var dragged = null;

    function say(text) {
      status.textContent = text;
      status.classList.toggle("message-error", !!text);
    }

    cal.addEventListener("click", function (event) {
      var body = event.target.closest(".cal-col .cal-body");
      if (!body || event.target.closest(".cal-appt")) return;
      var params = new URLSearchParams({ date: body.dataset.date, time: wall(minuteAt(body, event.clientY)) });
      if (body.dataset.therapist) params.set("therapist", body.dataset.therapist);
      if (body.dataset.room) params.set("room", body.dataset.room);
      window.location.href = cal.dataset.newUrl + "?" + params.toString();
    });

    cal.addEventListener("dragstart", function (event) {
      var appt = event.target.closest && event.target.closest("a.cal-appt[draggable]");
      if (!appt) return;
      dragged = appt;
      // Where in the appointment it was grabbed, so the drop keeps its top under the pointer's offset.
      dragged.dataset.grab = String(event.clientY - appt.getBoundingClientRect().top);
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", appt.getAttribute("href"));
      appt.classList.add("cal-dragging");
    });
    cal.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("cal-dragging");
      cal.querySelectorAll(".cal-drop").forEach(function (el) { el.classList.remove("cal-drop"); });
    });
    cal.addEventListener("dragover", function (event) {
      var body = dragged && event.target.closest(".cal-col .cal-body");
      if (!body) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      cal.querySelectorAll(".cal-drop").forEach(function (el) { if (el !== body) el.classList.remove("cal-drop"); });
      body.classList.add("cal-drop");
    });
    cal.addEventListener("drop", function (event) {
      var body = dragged && event.target.closest(".cal-col .cal-body");
      if (!body) return;
      event.preventDefault();
      var appt = dragged;
      dragged = null;
      var top = event.clientY - parseFloat(appt.dataset.grab || "0");
      var data = new FormData();
      data.set("day", body.dataset.date);
      data.set("time", wall(minuteAt(body, top + 1)));
      data.set("therapist", body.dataset.therapist || appt.dataset.therapist);
      if (body.dataset.room) data.set("room", body.dataset.room);
      say("Moving…");
      // The appointment's page is /schedule/appointments/<id>/; its move is the page's move/.
      fetch(appt.getAttribute("href") + "move/", {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": cal.dataset.csrf, Accept: "application/json" }
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (answer.ok) { window.location.reload(); return; }
          say("Not moved: " + (answer.error || "the server refused the move."));
        });
      }).catch(function () { say("Not moved: the server could not be reached."); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
