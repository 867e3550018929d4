"""Reports read results and write them out; they never run anything."""
