print("mmreview")
