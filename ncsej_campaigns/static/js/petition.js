/* Petition pages: keep the count live and offer a copy button for the share link.
   Everything here is an enhancement; the page works the same without it. */
(function () {
  "use strict";

  var POLL_MS = 30000;

  function updateCount(box) {
    var url = box.getAttribute("data-count-url");
    if (!url || !window.fetch || document.hidden) return;
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        box.querySelectorAll("[data-petition-total]").forEach(function (el) {
          el.textContent = data.total_formatted;
        });
        box.querySelectorAll("[data-petition-unit]").forEach(function (el) {
          el.textContent = data.unit;
        });
        box.querySelectorAll("[data-petition-next]").forEach(function (el) {
          el.textContent = data.milestone_text;
        });
        box.querySelectorAll("progress[data-petition-progress]").forEach(function (bar) {
          bar.max = data.goal;
          bar.value = Math.min(data.total, data.goal);
        });
      })
      .catch(function () { /* offline or rate limited: keep the number shown */ });
  }

  function startPolling() {
    document.querySelectorAll("[data-count-url]").forEach(function (box) {
      window.setInterval(function () { updateCount(box); }, POLL_MS);
      document.addEventListener("visibilitychange", function () {
        if (!document.hidden) updateCount(box);
      });
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(input.value).then(function () {
          var label = button.textContent;
          button.textContent = button.getAttribute("data-copied") || label;
          window.setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  startPolling();
  copyButtons();
})();
