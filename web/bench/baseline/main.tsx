// The bundle-size baseline (bench/console_bundle.py): the smallest React 18 app, built with
// the console's own Vite setup. The console's size is reported as a ratio to this.
import { createRoot } from "react-dom/client";

createRoot(document.getElementById("root")!).render(<h1>atende</h1>);
