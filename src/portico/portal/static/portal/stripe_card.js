/* Card entry through Stripe.js Elements (the `stripe` gateway): the card goes from the browser to
   Stripe, never to us. The page has started a SetupIntent; on submit this script confirms it
   (`stripe.confirmCardSetup`) and posts only the SetupIntent's id (`setup_intent`) to our server.
   A pay form that offers saved cards (`pay_with` radios) is submitted as it is unless "a new card"
   is chosen. No inline script: the data comes from data-* attributes (Content-Security-Policy). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-stripe-setup]");
  var box = form && form.querySelector(".stripe-card");
  if (!box || typeof window.Stripe !== "function") return;

  var stripe = window.Stripe(box.dataset.stripeKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = box.querySelector("#card-errors");
  var holder = box.querySelector("[data-holder-name]");
  var setupField = form.querySelector("input[name=setup_intent]");
  var busy = false;

  function newCardChosen() {
    var chosen = form.querySelector("input[name=pay_with]:checked");
    return !chosen || chosen.value === "new";
  }

  form.addEventListener("submit", function (event) {
    if (!newCardChosen() || (setupField && setupField.value)) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    var buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    errors.textContent = "";
    var details = {card: card};
    if (holder && holder.value.trim()) details.billing_details = {name: holder.value.trim()};
    stripe.confirmCardSetup(box.dataset.clientSecret, {payment_method: details}).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message || String(result.error);
        busy = false;
        buttons.forEach(function (b) { b.disabled = false; });
        return;
      }
      setupField.value = result.setupIntent.id;
      form.submit();
    });
  });
})();
