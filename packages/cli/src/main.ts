console.log("hi from", process.version)
