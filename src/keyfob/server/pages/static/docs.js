// Starts Swagger UI on /docs (an external script, so the page's CSP needs no 'unsafe-inline').
"use strict";
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  // Off: a deep link is a link inside each operation's expand button, which screen readers
  // and keyboards cannot reach apart (axe-core: nested-interactive).
  deepLinking: false,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null, // never send the document to validator.swagger.io
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
