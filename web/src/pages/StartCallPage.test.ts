import { buildOriginate } from "./StartCallPage";

const base = { to: " sip:1001@127.0.0.1:5080 ", kind: "flow" as const, name: "echo", customerName: "", trunk: "", callerId: "", variables: [] };

describe("buildOriginate", () => {
  it("sends only what was filled in", () => {
    expect(buildOriginate(base)).toEqual({ to: "sip:1001@127.0.0.1:5080", flow: "echo" });
  });

  it("puts the customer name among the variables, for a persona", () => {
    const req = buildOriginate({
      ...base,
      kind: "persona",
      name: "sales",
      customerName: "Ana",
      variables: [{ name: "plan", value: "gold" }, { name: "", value: "ignored" }],
    });
    expect(req).toEqual({ to: "sip:1001@127.0.0.1:5080", persona: "sales", variables: { plan: "gold", customer_name: "Ana" } });
  });

  it("says what is wrong with a field", () => {
    expect(() => buildOriginate({ ...base, to: "" })).toThrow(/whom to call/);
    expect(() => buildOriginate({ ...base, name: "" })).toThrow(/Choose a flow/);
    expect(() => buildOriginate({ ...base, variables: [{ name: "a b", value: "" }] })).toThrow(/letters, digits/);
  });
});
