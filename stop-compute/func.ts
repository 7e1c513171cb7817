// stop-compute: the Fn entry point. All behaviour lives in src/ (shared with the other function).
import { handle } from "@fnproject/fdk";
import { makeHandler } from "../src/handler.js";

handle(makeHandler("STOP"), { inputMode: "string" });
