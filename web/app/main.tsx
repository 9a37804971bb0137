// The entry point: render the app into #app.
import { render } from "preact";
import { boot } from "./store";
import { start as startLanguage } from "./lang";
import { start as startPush } from "./push";
import { App } from "./ui/App";
import "./styles.css";

// Ask the server who we are before the first render: it saves a frame.
boot();
startPush();
// The first render waits for the language (at once for English; one small
// chunk for another).
startLanguage().then(() => render(<App />, document.getElementById("app")!));
