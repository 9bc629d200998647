"""The tests' composition point: the packaged knowledge base, loaded once (tests pass it explicitly)."""

from logic import load_knowledge_base, validation_context

KB = load_knowledge_base()
CONTEXT = validation_context(KB)  # for Model.model_validate(data, context=CONTEXT)
