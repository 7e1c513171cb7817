/**
 * The allowed-compartments guardrail (ALLOWED_COMPARTMENT_IDS), applied in one place: a compartment
 * selection outside it is refused as a whole, an instance outside it is not touched, and resolution
 * never lists a compartment outside it. No guardrail configured: everything is allowed.
 */
import type { InstanceView } from "./compute.js";
import { PowerError } from "./errors.js";

export class Guardrail {
  constructor(private readonly allowed: ReadonlySet<string> | undefined) {}

  allows(compartmentId: string): boolean {
    return this.allowed === undefined || this.allowed.has(compartmentId);
  }

  /** Refusal for a compartment selection outside the guardrail (undefined: allowed). */
  refuseCompartment(compartmentId: string): PowerError | undefined {
    if (this.allows(compartmentId)) return undefined;
    return new PowerError(
      "Forbidden",
      `compartment ${compartmentId} is not in ALLOWED_COMPARTMENT_IDS; nothing was touched`,
    );
  }

  /** Refusal for an instance whose compartment is outside the guardrail (undefined: allowed). */
  refuseInstance(view: InstanceView): PowerError | undefined {
    if (this.allows(view.compartmentId)) return undefined;
    return new PowerError(
      "Forbidden",
      `instance is in compartment ${view.compartmentId}, which is not in ALLOWED_COMPARTMENT_IDS; it was not touched`,
    );
  }
}
