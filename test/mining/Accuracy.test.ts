// Template-level F1 (FTA) on small cases computed by hand; GA, FGA and PA are in test/presets/Accuracy.test.ts.
import { describe, expect, it } from "vitest"
import { precisionRecallF1, templateF1 } from "../../src/mining/Accuracy.ts"

describe("templateF1 (FTA)", () => {
  it("counts a predicted template correct when its group is a true template's lines and its text is that template", () => {
    // True templates: "A <*>" {0,1}, "B" {2}, "C <*>" {3,4}.
    // Predicted: group 1 {0,1} "A <*>" (right group, right text: correct); group 2 {2} "B x"
    // (right group, wrong text); groups 3 {3} and 4 {4} (right text, split group). 1 of 4 predicted, 1 of 3 true.
    const r = templateF1([1, 1, 2, 3, 4], ["A <*>", "A <*>", "B x", "C <*>", "C <*>"], ["A <*>", "A <*>", "B", "C <*>", "C <*>"])
    expect(r).toMatchObject({ correct: 1, predictedTemplates: 4, trueTemplates: 3, precision: 1 / 4, recall: 1 / 3 })
    expect(r.f1).toBeCloseTo(2 / 7, 12)
  })

  it("compares texts after normalizeTemplate, and a group mixing two true templates is wrong", () => {
    // {0,1} "Took <*> <*> s" normalises to the truth's "Took <*> s": correct. {2,3} holds lines of "x" and "y": wrong.
    const r = templateF1(["g", "g", "h", "h"], ["Took <*> <*> s", "Took <*> <*> s", "x", "x"], ["Took <*> s", "Took  <*> s", "x", "y"])
    // The truth's templates are its distinct strings: "Took <*> s" and "Took  <*> s" are two true templates,
    // so group g (both lines) equals neither.
    expect(r).toMatchObject({ correct: 0, predictedTemplates: 2, trueTemplates: 4, f1: 0 })
    const s = templateF1(["g", "g", "h", "h"], ["Took <*> <*> s", "Took <*> <*> s", "x", "x"], ["Took <*> s", "Took <*> s", "x", "y"])
    expect(s).toMatchObject({ correct: 1, predictedTemplates: 2, trueTemplates: 3, precision: 1 / 2, recall: 1 / 3 })
  })

  it("is 1 when every group and text is right, whatever the group keys; NaN for no lines; lengths must agree", () => {
    expect(templateF1([9, 9, 5], ["a <*>", "a <*>", "b"], ["a <*>", "a <*>", "b"])).toMatchObject({ precision: 1, recall: 1, f1: 1, correct: 2 })
    // The text of a group is its first line's.
    expect(templateF1([0, 0], ["a", "zzz"], ["a", "a"]).correct).toBe(1)
    expect(templateF1([], [], [])).toMatchObject({ precision: NaN, recall: NaN, f1: NaN, correct: 0 })
    expect(() => templateF1([1, 2], ["a"], ["a", "b"])).toThrow(/2 predicted groups but 1 predicted templates/)
    expect(() => templateF1([1], ["a"], ["a", "b"])).toThrow(/1 predicted groups but 2 ground-truth labels/)
  })
})

describe("precisionRecallF1", () => {
  it("is correct / predicted, correct / truth and their harmonic mean (0 when both are 0)", () => {
    expect(precisionRecallF1(1, 4, 2)).toEqual({ precision: 0.25, recall: 0.5, f1: 1 / 3 })
    expect(precisionRecallF1(0, 3, 2)).toEqual({ precision: 0, recall: 0, f1: 0 })
    expect(precisionRecallF1(2, 2, 2)).toEqual({ precision: 1, recall: 1, f1: 1 })
  })
})
