"""The recall bench (`bench/recall.py`) on two small conversations in the
LoCoMo format (the real ones stay outside the repository): every mode's
scores and latency, the agent step's calls, the leave-one-out over the
hybrid weights, the date in the text, and the skip without data (never a
timing assert)."""

from __future__ import annotations

import json
from pathlib import Path

from support import run_bench

# Each conversation: a question whose one evidence turn alone holds its rare words.
CONVERSATIONS = {
    "conv-a": [
        ("Ann", "I adopted a greyhound named Biscuit from the shelter."),
        ("Bob", "My sister plays the cello in an orchestra."),
        ("Ann", "We went hiking near the glacier last weekend."),
        ("Bob", "The bakery on my street sells sourdough now."),
    ],
    "conv-b": [
        ("Cal", "I finally fixed the carburetor of my motorbike."),
        ("Dee", "Our choir sings at the cathedral on Sunday."),
        ("Cal", "I read a novel about lighthouse keepers."),
        ("Dee", "My garden has tomatoes and basil this year."),
    ],
}
QUESTIONS = {
    "conv-a": "What is the name of Ann's greyhound?",
    "conv-b": "What did Cal fix on his motorbike?",
}
EVIDENCE = {"conv-a": "D1:1", "conv-b": "D1:1"}


def question(text: str, evidence: str, category: int) -> dict[str, object]:
    """A question in the LoCoMo format (no evidence: "")."""
    return {
        "question": text,
        "answer": "-",
        "evidence": [evidence] if evidence else [],
        "category": category,
    }


def write_conversations(folder: Path) -> None:
    for name, said in CONVERSATIONS.items():
        speakers = sorted({speaker for speaker, _ in said})
        conversation = {
            "speaker_a": speakers[0],
            "speaker_b": speakers[1],
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": speaker, "dia_id": f"D1:{n}", "text": text}
                for n, (speaker, text) in enumerate(said, start=1)
            ],
            # Only the date says when: "--date-in-text" puts it in the text.
            "session_2_date_time": "10:00 am on 3 March, 2021",
            "session_2": [{"speaker": speakers[0], "dia_id": "D2:1", "text": "We moved house."}],
            "qa": [
                question(QUESTIONS[name], EVIDENCE[name], 4),
                question("What happened in March?", "D2:1", 2),
                question("Is this adversarial?", "", 5),
            ],
        }
        (folder / f"{name}.json").write_text(json.dumps(conversation))


def test_recall_bench_scores_every_mode_and_the_leave_one_out(tmp_path: Path) -> None:
    write_conversations(tmp_path)
    out = tmp_path / "recall.json"
    printed = run_bench(
        "recall",
        *("--data", str(tmp_path), "--weights", "0.3,1.0", "--neighbor-weights", "0,0.2"),
        *("--time-weights", "0.3", "--date-in-text", "--out", str(out)),
        timeout=300,
    )
    report = json.loads(out.read_text())
    assert report["questions"] == 4  # category 5 is left out
    assert report["date_in_text"]
    for mode in ("vector", "keyword", "hybrid"):
        assert mode in printed
        assert report[mode]["latency"]["n"] == 4
        assert report[mode]["latency"]["p50_ms"] > 0
    # The evidence alone holds "greyhound" and "motorbike": keyword recall finds it first.
    assert report["keyword"]["overall"]["recall@1"] == 1.0
    assert report["keyword"]["by_category"]["4"]["hit@5"] == 1.0
    # Only the date in the text holds "March".
    assert report["keyword"]["by_category"]["2"]["recall@1"] == 1.0
    assert report["vector"]["latency"]["p50_over_vector"] == 1.0
    steps = report["agent_step"]
    assert set(steps) == {"GetContext", "GetContext vector", "GetSession+SearchMemories"}
    assert all(step["n"] == 4 for step in steps.values())
    assert steps["GetContext"]["p50_over_get_context"] == 1.0
    assert "GetSession+SearchMemories" in printed
    loo = report["leave_one_out"]
    assert set(loo["folds"]) == {"locomo-conv-a", "locomo-conv-b"}
    for fold in loo["folds"].values():
        assert fold["keyword_weight"] in (0.3, 1.0)
        assert fold["neighbor_weight"] in (0.0, 0.2)
        assert fold["time_weight"] == 0.3
    assert set(loo["by_weights"]) == {"0.3/0.0/0.3", "0.3/0.2/0.3", "1.0/0.0/0.3", "1.0/0.2/0.3"}
    assert loo["held_out"]["overall"]["hit@10"] == 1.0
    assert "leave-one-out recall@5" in printed


def test_recall_bench_skips_without_data(tmp_path: Path) -> None:
    assert run_bench("recall", "--data", str(tmp_path / "absent"), timeout=60) == ""
