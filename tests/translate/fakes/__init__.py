"""Loopback fakes of the translation APIs (DeepL, LibreTranslate, OpenAI chat completions).

Real HTTP servers on 127.0.0.1 with the request and response shapes of the public API docs,
including their errors, plus fault injection. Their "translation" is a deterministic word
substitution (`fake_german`) so tests can check alignment exactly; it is no real translation.
"""
