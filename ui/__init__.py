"""Dialogs and widgets of the plugin (thin: the logic they show lives in dependencies/ and engine/)."""
