# loans (capability catalog; keys must match the other language's file)
