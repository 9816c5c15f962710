using Lstm.Benchmarks.Peers;
Console.WriteLine(TorchSharpLoader.Patch());
Console.WriteLine(TorchSharp.torch.randn(2, 2).ToString(TorchSharp.TensorStringStyle.Julia));
