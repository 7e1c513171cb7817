import { describeComputeContract } from "../helpers/compute-contract.js";
import { FakeCompute } from "../helpers/fake-compute.js";

describeComputeContract("in-memory fake", () => {
  const options: ConstructorParameters<typeof FakeCompute>[1] = {
    durationsMs: { START: 30, STOP: 30, SOFTSTOP: 60 },
  };
  const fake = new FakeCompute([], options);
  return {
    port: fake,
    settleMs: 60,
    seed: async (instances) => {
      for (const i of instances) fake.put(i);
    },
    hold: async (instanceIds) => {
      options.hold = { instanceIds, ms: 600_000 };
      return async () => {
        delete options.hold;
      };
    },
  };
});
