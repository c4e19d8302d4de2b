// Entry point: the stylesheet (bundled into one hashed file) and the app, rendered into #app.
import "./app.css";
import { html } from "htm/preact";
import { render } from "preact";
import { App } from "./app.js";

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
