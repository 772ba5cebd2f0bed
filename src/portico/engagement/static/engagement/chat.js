/* The organization's chat widget, loaded by Portico's portal (no inline script: the CSP forbids it).
   The settings come from this script tag's data- attributes; this sets the provider's globals the
   way its own snippet would (with the signed-in contact's name and email, when passed) and then adds
   the provider's script, whose origin the page's CSP allows. */
(function () {
  "use strict";
  var tag = document.currentScript || document.getElementById("portico-chat");
  if (!tag) { return; }
  var d = tag.dataset;
  var provider = d.chatProvider, src = d.chatScript, site = d.chatSite || "";
  var name = d.chatName || "", email = d.chatEmail || "";
  if (!src || src.indexOf("https://") !== 0 && src.indexOf("http://") !== 0) { return; }

  function load(id) {
    var script = document.createElement("script");
    script.src = src;
    script.async = true;
    if (id) { script.id = id; }
    script.setAttribute("data-portico-chat-provider", provider);
    document.head.appendChild(script);
  }

  if (provider === "crisp") {
    window.$crisp = window.$crisp || [];
    window.CRISP_WEBSITE_ID = site;
    if (email) { window.$crisp.push(["set", "user:email", [email]]); }
    if (name) { window.$crisp.push(["set", "user:nickname", [name]]); }
    load();
  } else if (provider === "intercom") {
    var settings = { app_id: site };
    if (name) { settings.name = name; }
    if (email) { settings.email = email; }
    window.intercomSettings = settings;
    var queue = function () { queue.c(arguments); };
    queue.q = [];
    queue.c = function (args) { queue.q.push(args); };
    window.Intercom = window.Intercom || queue;
    load();
    window.Intercom("boot", settings);
  } else if (provider === "zoho") {
    window.$zoho = window.$zoho || {};
    window.$zoho.salesiq = window.$zoho.salesiq || {
      widgetcode: site,
      values: {},
      ready: function () {
        if (name) { window.$zoho.salesiq.visitor.name(name); }
        if (email) { window.$zoho.salesiq.visitor.email(email); }
      }
    };
    load("zsiqscript");
  } else if (provider === "tawk") {
    window.Tawk_API = window.Tawk_API || {};
    if (name || email) { window.Tawk_API.visitor = { name: name, email: email }; }
    window.Tawk_LoadStart = new Date();
    load();
  } else {
    window.PorticoChat = { site: site, name: name, email: email };
    load();
  }
})();
