import { describeComputeContract } from "../helpers/compute-contract.js";
import { FakeCompute } from "../helpers/fake-compute.js";

describeComputeContract("in-memory fake", () => {
  const fake = new FakeCompute([], { durationsMs: { START: 30, STOP: 30, SOFTSTOP: 60 } });
  return {
    port: fake,
    settleMs: 60,
    seed: async (instances) => {
      for (const i of instances) fake.put(i);
    },
  };
});
