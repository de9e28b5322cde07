"""The Gradio web demo: one tab per capability, each a thin form over the public Python API.

``t2v demo`` (or ``python demo/app.py``) starts it; :func:`t2v.demo.app.launch` is the entry point. Gradio is
an optional dependency (``pip install 't2v[demo]'``), imported only when the demo starts.
"""
