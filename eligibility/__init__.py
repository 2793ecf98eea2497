"""Household facts and the engine that turns them into entitlements."""
