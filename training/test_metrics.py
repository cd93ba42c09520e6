"""Hand-checked tests of the conlleval-style entity metric (run with pytest)."""

import multitask_common as mc
import pytest


def test_chunks_iob2_and_conlleval_quirks():
    assert mc.get_chunks(["B-PER", "I-PER", "O", "B-LOC"]) == [
        ("PER", 0, 1),
        ("LOC", 3, 3),
    ]
    # B after B of the same type starts a new entity
    assert mc.get_chunks(["B-PER", "B-PER"]) == [("PER", 0, 0), ("PER", 1, 1)]
    # conlleval: I-X after O opens an entity; a type change inside I- splits it
    assert mc.get_chunks(["O", "I-MISC", "I-MISC", "I-ORG"]) == [
        ("MISC", 1, 2),
        ("ORG", 3, 3),
    ]
    # entity running to the end of the sentence
    assert mc.get_chunks(["O", "B-ORG", "I-ORG"]) == [("ORG", 1, 2)]
    assert mc.get_chunks(["O", "O"]) == []


def test_entity_prf_hand_computed():
    gold = [
        ["B-PER", "I-PER", "O", "B-LOC"],  # PER(0,1) LOC(3,3)
        ["B-ORG", "I-ORG", "I-ORG", "O"],  # ORG(0,2)
        ["O", "B-MISC", "I-MISC", "O", "B-PER"],  # MISC(1,2) PER(4,4)
    ]
    pred = [
        ["B-PER", "I-PER", "O", "B-ORG"],  # PER correct; ORG(3,3) wrong type
        ["B-ORG", "I-ORG", "O", "O"],  # ORG(0,1): right type, wrong right boundary
        [
            "O",
            "I-MISC",
            "I-MISC",
            "O",
            "O",
        ],  # MISC(1,2) correct (I- opens chunk); PER missed
    ]
    res = mc.entity_prf(gold, pred)
    o = res["overall"]
    # gold 5 entities, predicted 4, correct 2
    assert (o["n_gold"], o["n_pred"], o["n_correct"]) == (5, 4, 2)
    assert o["precision"] == pytest.approx(2 / 4)
    assert o["recall"] == pytest.approx(2 / 5)
    assert o["f1"] == pytest.approx(2 * 0.5 * 0.4 / 0.9)
    per = res["per_type"]
    assert per["PER"]["precision"] == pytest.approx(1.0)
    assert per["PER"]["recall"] == pytest.approx(0.5)
    assert per["PER"]["f1"] == pytest.approx(2 / 3)
    assert per["MISC"]["f1"] == pytest.approx(1.0)
    assert per["ORG"]["n_correct"] == 0 and per["ORG"]["n_pred"] == 2 and per["ORG"]["n_gold"] == 1
    assert per["ORG"]["f1"] == 0.0
    assert per["LOC"]["recall"] == 0.0 and per["LOC"]["n_pred"] == 0


def test_perfect_and_empty():
    gold = [["B-LOC", "O", "B-PER", "I-PER"]]
    assert mc.entity_prf(gold, gold)["overall"]["f1"] == pytest.approx(1.0)
    res = mc.entity_prf([["O", "O"]], [["O", "O"]])
    assert res["overall"]["f1"] == 0.0 and res["per_type"] == {}


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        mc.entity_prf([["O", "B-PER"]], [["O"]])
