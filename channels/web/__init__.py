"""The staff web console (/console/); see app.py for how pages plug in."""
