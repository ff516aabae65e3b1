"""Renkei (連携): one funnel for marketing and sales."""
