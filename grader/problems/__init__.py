"""One module per problem, each exporting ``SPEC``; ``grader.registry`` lists them in order."""
