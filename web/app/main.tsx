// The entry point: render the app into #app.
import { render } from "preact";
import { boot } from "./store";
import { App } from "./ui/App";
import "./styles.css";

// Ask the server who we are before the first render: it saves a frame.
boot();
render(<App />, document.getElementById("app")!);
