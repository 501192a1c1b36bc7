"""Dialogs and widgets of the plugin.

Thin: the logic they show lives in dependencies/ and engine/.
"""
