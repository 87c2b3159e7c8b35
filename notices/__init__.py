"""What runs on a clock or talks to WeChat on its own: pushes, publishing, housekeeping."""
