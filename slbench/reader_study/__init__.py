"""Visual Turing tests: a self-contained study page for clinicians, and the analysis of their answers.

``build`` draws held-out real images and generated ones, writes one HTML page (images embedded,
nothing fetched) and an answer key kept apart from it; ``score`` reads the answers the page
downloads and measures how well raters told synthetic images from real ones.
"""
