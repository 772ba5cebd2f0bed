// The print view's Print button: shown only where JavaScript runs; otherwise the hint beside it stays.
document.querySelectorAll("[data-print-button]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
  var hint = document.getElementById(button.getAttribute("aria-describedby") || "");
  if (hint) { hint.classList.add("visually-hidden"); }
});
