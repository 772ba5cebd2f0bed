// The live preview of a customer email in the console (`console.admin_emails`): as staff type,
// the subject and text are posted to the preview endpoint and the answer is shown in the
// sandboxed frame (no scripts run there). Without JavaScript the page shows the saved preview.
(function () {
  "use strict";
  var form = document.getElementById("email-template-form");
  var frame = document.getElementById("email-preview-frame");
  if (!form || !frame) return;
  var subject = document.getElementById("email-preview-subject");
  var error = document.getElementById("email-preview-error");
  var timer = null;
  var latest = 0;

  function render() {
    var data = new FormData(form);
    var request = ++latest;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) { return response.json(); })
      .then(function (preview) {
        if (request !== latest) return;
        if (preview.error) {
          error.textContent = preview.error;
          error.hidden = false;
          return;
        }
        error.hidden = true;
        subject.textContent = preview.subject;
        frame.srcdoc = preview.html;
      })
      .catch(function () { /* the saved preview stays */ });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(render, 300);
  });
})();
