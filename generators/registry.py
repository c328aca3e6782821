"""Registry of generator families: name -> spec."""

MODELS: dict = {}


def build_generator(name: str, resolution: int, **overrides):
    raise ValueError(f"unknown model {name!r}; supported: {', '.join(MODELS) or 'none'}")


def build_discriminator(name: str, resolution: int, **overrides):
    raise ValueError(f"unknown model {name!r}; supported: {', '.join(MODELS) or 'none'}")
