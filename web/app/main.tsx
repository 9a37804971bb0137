// The entry point: render the app into #app.
import { render } from "preact";
import { boot } from "./store";
import { start as startPush } from "./push";
import { App } from "./ui/App";
import "./styles.css";

// Ask the server who we are before the first render: it saves a frame.
boot();
startPush();
render(<App />, document.getElementById("app")!);
