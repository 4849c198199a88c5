import { historyQueryString, localInputToIso } from "./query";

describe("historyQueryString", () => {
  it("leaves out empty filters", () => {
    expect(historyQueryString({})).toBe("");
    expect(historyQueryString({ flow: " ", number: "" })).toBe("");
  });

  it("keeps only digits and + in the number and encodes the rest", () => {
    const q = historyQueryString({ limit: 25, before: "a/b", outcome: "caller hangup", number: "+55 (11) 9-99" });
    expect(q).toBe("?limit=25&before=a%2Fb&outcome=caller%20hangup&number=%2B5511999");
  });
});

describe("localInputToIso", () => {
  it("turns a datetime-local value into UTC ISO, and nonsense into nothing", () => {
    expect(localInputToIso("")).toBeUndefined();
    expect(localInputToIso("garbage")).toBeUndefined();
    expect(localInputToIso("2026-12-05T10:00")).toBe(new Date("2026-12-05T10:00").toISOString());
  });
});
