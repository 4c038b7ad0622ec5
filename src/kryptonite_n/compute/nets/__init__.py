"""The MLP's implementation (torch): the predictor, its trainer, and what a trained network looks like.

Kept apart from the MLP model module (its spec and entry points), so that
planning the workflow, which reads every model's spec, never imports torch.
"""
