"""Demo data (interface; the full implementation follows)."""


def load_demo(if_empty: bool = False, with_responses: bool = True, seed: int = 2022) -> str:
    raise NotImplementedError
