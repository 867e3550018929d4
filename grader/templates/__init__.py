"""Templates for grading platforms: the Gradescope bundle scripts and the GitHub Classroom workflow."""
