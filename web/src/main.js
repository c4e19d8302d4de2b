// Entry point: the stylesheets (bundled into one hashed file) and the app, rendered into #app.
import "uplot/dist/uPlot.min.css"; // the charts are loaded later (chart.js); their styles come now
import "./app.css";
import { html } from "htm/preact";
import { render } from "preact";
import { App } from "./app.js";

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
