"""The health-score screens; views stay thin: reads through `queries`, writes through `services`."""
