"""The core's own components, registered through the same hooks as any third-party plugin."""

from lamina import hookimpl


@hookimpl
def register_models(register):
    register(
        "digits_mlp",
        "lamina.builtin.digits:DigitsClassifier",
        description="Small MLP image classifier for 8x8 digits (the platform's smoke-test model).",
    )


@hookimpl
def register_datasets(register):
    register(
        "digits",
        "lamina.builtin.digits:DigitsDataModule",
        description="scikit-learn's bundled handwritten digits (1,797 real 8x8 images), as a HF datasets DataModule.",
    )
