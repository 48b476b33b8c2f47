// Sends the signed-in user back to the app: submits the hidden form (token, clientId, state).
"use strict";
document.getElementById("form-post").submit();
